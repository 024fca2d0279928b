// The name dictionary: common given names and surnames across English, German, French, Spanish,
// Italian, Dutch, Polish, Portuguese, Turkish, Arabic, Indian, Chinese and other usage, written
// for this project (not taken from a data set). Space-separated; names.cpp loads them once.
#include "privacy/names_data.h"

namespace tandem::privacy::detail {

const char* const kGivenNames =
    // English
    "James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony Donald "
    "Steven Paul Andrew Joshua Kenneth Kevin Brian George Edward Ronald Timothy Jason Jeffrey Ryan Jacob Gary "
    "Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Patrick Raymond "
    "Dennis Tyler Aaron Jose Adam Nathan Henry Douglas Zachary Peter Kyle Walter Ethan Jeremy Harold Keith "
    "Christian Roger Noah Gerald Carl Terry Sean Austin Arthur Lawrence Jesse Dylan Bryan Joe Jordan Billy Bruce "
    "Albert Willie Gabriel Logan Alan Juan Wayne Roy Ralph Randy Eugene Vincent Russell Elijah Louis Bobby Philip "
    "Johnny Liam Oliver Harry Jack Charlie Oscar Leo Archie Alfie Freddie Theo Isaac Lucas Mason Owen Luke Tom Tim "
    "Mike Dave Chris Steve Matt Nick Sam Ben Dan Alex Jim Bob Ted Fred Greg Ian Neil Colin Graham Simon Stuart "
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret Sandra "
    "Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca Sharon Laura "
    "Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha Katherine Christine Debra "
    "Rachel Carolyn Janet Catherine Maria Heather Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren "
    "Christina Joan Evelyn Judith Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison "
    "Frances Kathryn Janice Jean Abigail Alice Judy Sophia Julia Denise Amber Doris Marilyn Danielle Beverly "
    "Isabella Theresa Diana Natalie Brittany Charlotte Marie Kayla Alexis Lori Amelia Isla Ava Mia Ella Poppy "
    "Lucy Chloe Sophie Grace Lily Ruby Evie Freya Jessica Holly Zoe Kate Katie Jane Liz Beth Meg Jenny Becky "
    // German
    "Hans Peter Klaus Jürgen Wolfgang Dieter Uwe Günter Horst Helmut Werner Manfred Gerhard Karl Heinz Walter "
    "Stefan Andreas Thomas Markus Frank Michael Christian Matthias Tobias Florian Sebastian Jan Lukas Jonas Leon "
    "Finn Felix Maximilian Moritz Niklas Paul Elias Ben Luca Noah Emil Anton Jakob Johannes Friedrich Wilhelm "
    "Ernst Otto Heinrich Rainer Bernd Jörg Ralf Volker Dirk Sven Kai Björn Torsten Holger Carsten Oliver Timo "
    "Ursula Monika Petra Sabine Renate Helga Karin Brigitte Ingrid Erika Gisela Susanne Andrea Claudia Stefanie "
    "Birgit Nicole Anja Katrin Julia Anna Lena Laura Lea Leonie Lina Mia Emma Hannah Marie Sophie Johanna "
    "Katharina Franziska Charlotte Greta Frieda Clara Ida Mila Ella Luisa Amelie Nele Jana Svenja Maren Anke "
    "Heike Silke Jutta Gabriele Doris Bärbel Annette Martina Angelika Christa Hildegard Elke Anneliese Lieselotte "
    // French
    "Jean Pierre Michel André Philippe Alain Jacques Bernard Patrick Daniel Christophe Nicolas Laurent Frédéric "
    "Éric Stéphane Sébastien Julien David Olivier Thierry Pascal Vincent François Guillaume Mathieu Antoine "
    "Romain Maxime Alexandre Thomas Hugo Louis Gabriel Arthur Jules Raphaël Léo Lucas Adam Nathan Théo Baptiste "
    "Clément Benoît Yves Gérard Claude René Marcel Henri Lucien Émile Étienne Gilles Didier Denis Hervé Xavier "
    "Marie Nathalie Isabelle Sylvie Catherine Françoise Valérie Christine Sandrine Céline Stéphanie Véronique "
    "Sophie Julie Aurélie Émilie Camille Léa Manon Chloé Inès Jade Louise Alice Lina Rose Juliette Margaux "
    "Élodie Amélie Mathilde Pauline Clémence Océane Anaïs Laure Hélène Brigitte Monique Nicole Martine Annie "
    "Geneviève Josiane Odile Solène Agathe Capucine Zoé Maëlle Lucie Elise Élise Claire Anne Delphine Virginie "
    // Spanish and Portuguese
    "José Antonio Manuel Francisco Juan David Javier Daniel Carlos Jesús Alejandro Miguel Rafael Pedro Pablo "
    "Ángel Sergio Fernando Jorge Luis Alberto Álvaro Adrián Diego Raúl Enrique Ramón Vicente Andrés Joaquín "
    "Santiago Mateo Hugo Martín Lucas Leo Marcos Iván Rubén Óscar Emilio Gonzalo Ignacio Tomás Gabriel Héctor "
    "Eduardo Ricardo Roberto Alfonso Salvador Guillermo Jaime Julio Mariano Nicolás Agustín Sebastián Felipe "
    "João Paulo Tiago Rui Nuno Gonçalo Duarte Afonso Rodrigo Bruno Ricardo Vítor "
    "María Carmen Ana Isabel Laura Cristina Marta Lucía Elena Paula Sara Raquel Pilar Rosa Teresa Beatriz "
    "Silvia Patricia Sofía Martina Julia Valeria Daniela Alba Irene Andrea Nerea Claudia Natalia Mercedes "
    "Rocío Inmaculada Montserrat Dolores Josefa Concepción Esperanza Lorena Noelia Verónica Yolanda Alicia "
    "Ximena Valentina Camila Mariana Gabriela Fernanda Guadalupe Leticia Adriana Inés Lourdes Begoña Ainhoa "
    // Italian, Dutch, Scandinavian, Polish, Russian, Greek
    "Giuseppe Giovanni Marco Luca Francesco Alessandro Andrea Matteo Lorenzo Stefano Roberto Paolo Giorgio Luigi "
    "Giulia Francesca Chiara Federica Alessia Silvia Elisa Valentina Martina Sofia Giorgia Aurora Alessandra "
    "Daan Sem Bram Lars Thijs Ruben Sanne Femke Lotte Fleur Anouk Eva Iris Noor Maartje Willem Pieter Joost "
    "Erik Nils Anders Magnus Olaf Henrik Sven Ingrid Astrid Sigrid Karin Kerstin Freja Linnea Maja Elin "
    "Piotr Krzysztof Tomasz Paweł Marcin Michał Jakub Katarzyna Agnieszka Małgorzata Magdalena Zofia Aleksandra "
    "Ivan Dmitri Sergei Vladimir Nikolai Alexei Mikhail Olga Natasha Tatiana Svetlana Irina Ekaterina Anastasia "
    "Nikos Giorgos Dimitris Yannis Eleni Maria Katerina "
    // Turkish, Arabic, Persian, Indian, East Asian, African
    "Mehmet Mustafa Ahmet Ali Hüseyin Hasan Ibrahim İbrahim Murat Emre Burak Can Elif Zeynep Ayşe Fatma Emine "
    "Mohammed Muhammad Mohamed Ahmed Ahmad Omar Youssef Yusuf Khalid Hamza Karim Tariq Amir Samir Rami Bilal "
    "Fatima Aisha Layla Leila Mariam Maryam Nour Yasmin Yasmine Salma Amira Hana Zainab Khadija Reza Darius "
    "Raj Rahul Amit Arjun Vikram Sanjay Anil Ravi Suresh Ramesh Rohan Aditya Priya Ananya Deepa Pooja Neha "
    "Sunita Anjali Kavya Lakshmi Divya Meera Aarav Vivaan Ishaan "
    "Wei Jing Li Ming Hui Xin Yan Lei Jun Hao Yuki Haruto Sota Hiroshi Takashi Kenji Akira Sakura Yui Aoi Hina "
    "Minjun Seojun Jiwoo Seoyeon Jiyeon Hyun Thanh Linh Nguyen Kwame Kofi Ama Chinedu Ngozi Oluwaseun Amara "
    "Thabo Sipho Zanele Lerato Wanjiru";

const char* const kSurnames =
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin Lee "
    "Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green Adams Baker "
    "Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris Murphy "
    "Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Kelly Howard Ward Cox Richardson Wood Watson Brooks "
    "Bennett Gray Hughes Price Sanders Myers Long Ross Foster Powell Jenkins Perry Russell Sullivan Fisher "
    "Henderson Coleman Simmons Patterson Jordan Reynolds Hamilton Graham Wallace Cole West Stone Hayes Gibson "
    "Ellis Murray Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Palmer Black Hunt "
    "O'Brien O'Connor O'Neill Walsh Byrne Ryan Doyle McCarthy Gallagher Doherty Kelly Quinn Fitzgerald Brennan "
    "Müller Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
    "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner "
    "Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs "
    "Peters Lang Scholz Möller Weiß Weiss Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler "
    "Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer "
    "Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Dietrich Ziegler Kuhn Pohl "
    "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia "
    "David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont Lambert Bonnet François "
    "Martinez Legrand Garnier Faure Rousseau Blanc Guerin Guérin Muller Henry Roussel Nicolas Perrin Morin "
    "Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin Masson Sanchez Gérard Nguyen Boyer Denis "
    "Lemaire Duval Joly Gautier Roger Roche Roy Noël Meyer Lucas Meunier Jean Perez Marchand Dufour Blanchard "
    "García González Rodríguez Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz "
    "Moreno Muñoz Álvarez Romero Alonso Gutiérrez Navarro Torres Domínguez Vázquez Ramos Gil Ramírez Serrano "
    "Blanco Molina Morales Suárez Ortega Delgado Castro Ortiz Rubio Marín Sanz Núñez Iglesias Medina Garrido "
    "Cortés Castillo Santos Lozano Guerrero Cano Prieto Méndez Cruz Calvo Gallego Vidal León Márquez Herrera "
    "Peña Flores Cabrera Campos Vega Fuentes Carrasco Diez Caballero Reyes Nieto Aguilar Pascual Santana Herrero "
    "Gonzalez Rodriguez Hernandez Lopez Perez Sanchez Ramirez Diaz Gomez Alvarez Jimenez Silva Pereira Oliveira "
    "Costa Rodrigues Ferreira Alves Sousa Carvalho Gonçalves Ribeiro Almeida Lima "
    "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti Mancini Costa "
    "Giordano Rizzo Lombardi Moretti De Vries Jansen Bakker Visser Smit Meijer Mulder Bos Vos Dekker "
    "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak Kozłowski "
    "Ivanov Petrov Smirnov Popov Sokolov Kuznetsov Novak Horvat Kovač Papadopoulos Yilmaz Yılmaz Kaya Demir "
    "Şahin Çelik Öztürk Aydın Khan Ali Hussain Hassan Rahman Ahmed Singh Kumar Sharma Patel Gupta Shah Mehta "
    "Reddy Iyer Nair Das Chen Wang Zhang Liu Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo Lin He Tanaka "
    "Suzuki Takahashi Watanabe Ito Yamamoto Nakamura Kobayashi Kato Sato Kim Park Choi Jung Kang Cho Tran Le "
    "Pham Hoang Okafor Mensah Mwangi Dlamini Nkosi Andersson Johansson Karlsson Nilsson Eriksson Larsson "
    "Olsen Hansen Jensen Nielsen Pedersen Virtanen Korhonen";

// Given names that are also ordinary words (or months, places, brands): alone, at the start of a
// sentence, they are weak evidence of a person.
const char* const kAmbiguousGivenNames =
    "Will May June April August Mark Grace Hope Faith Joy Rose Lily Daisy Iris Ruby Amber Dawn Summer Autumn "
    "Bill Frank Art Jack Guy Pat Sue Rob Don Miles Chase Hunter Bob Carol Angel Christian Victoria Virginia "
    "Jordan Austin Eve Ivy Jade Pearl Sky Ernst Claire Constance Prudence Rosa Dolores Luz Paz Mercedes Pilar "
    "Sol Esperanza Jesús Florence Paris Sydney Georgia Long Young King Wood Stone Hill Green White Black Brown "
    "Jean Max Lea Ali Can Li Ming Sun Ma Hu He Le Bell Ward Cole West Bruno Leo Alba Aurora "
    "Nur Noor Ella Sem Bram Kai Jan Otto Marcel Amir";

}  // namespace tandem::privacy::detail
